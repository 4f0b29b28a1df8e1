import { createReferenceCore } from "../../src/core/reference/mod.ts";
import { policySuite } from "./_policy_suite.ts";

policySuite("reference", createReferenceCore);
