declare const coreModule: WebAssembly.Module;
export default coreModule;
