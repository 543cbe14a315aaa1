// Registers the loss layer family (one import per layer file).
export {};
