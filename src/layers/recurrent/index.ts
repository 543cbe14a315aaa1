// Registers the recurrent layer family (one import per layer file).
export {};
