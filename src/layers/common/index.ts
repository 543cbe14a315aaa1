// Registers the common layer family (one import per layer file).
export {};
