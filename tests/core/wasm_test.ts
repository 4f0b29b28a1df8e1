import { createWasmCore } from "../../src/wasm/wasm_core.ts";
import { policySuite } from "./_policy_suite.ts";

policySuite("wasm", createWasmCore);
