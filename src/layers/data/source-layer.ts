// What every layer that produces data (no bottoms, no backward) has in common.
import { Layer } from '../layer.js';

export abstract class SourceLayer extends Layer {
  override bottomCount(): [number, number] {
    return [0, 0];
  }
  override topCount(): [number, number] {
    return [1, Infinity];
  }
  override hasBackward(): boolean {
    return false;
  }
}
