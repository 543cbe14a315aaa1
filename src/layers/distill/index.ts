// Registers the distill layer family (one import per layer file).
export {};
