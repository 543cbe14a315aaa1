// Registers the neuron layer family (one import per layer file).
export {};
