// @ts-self-types="./core_module.d.ts"
// The compiled scoring core as a WebAssembly.Module (source-phase import: compiled once, no
// permissions needed, one instance per ScoringCore). Kept in a .js file because TypeScript's
// checker does not parse `import source` yet. Build it with `deno task build:wasm`.
import source coreModule from "../../artifacts/wasm/pdroute_core.wasm";
export default coreModule;
