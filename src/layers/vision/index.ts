// Registers the vision layer family (one import per layer file).
export {};
