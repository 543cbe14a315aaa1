// --layers-path DIR: where the JavaScript ports of Python layers are found. Repeatable, and each value may be
// a path-delimited list (a:b), like PYTHONPATH; KDNET_LAYERS_PATH and the net file's folder are searched after.
import type { Command } from 'commander';

export function addLayersPathOption(cmd: Command): Command {
  return cmd.option(
    '--layers-path <dirs>',
    'folder(s) with JavaScript ports of Python layers (repeatable; searched before KDNET_LAYERS_PATH and the net\'s folder)',
    (value: string, previous: string[] = []) => [...previous, value],
  );
}
