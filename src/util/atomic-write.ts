// Nothing a user made is lost: files are written to a temporary sibling, flushed, then renamed over the target.
import fs from 'node:fs';
import path from 'node:path';
import { KdnetError } from '../errors.js';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
    // The rename is durable only once the directory entry is flushed too.
    try {
      const dfd = fs.openSync(dir, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch {
      /* some filesystems do not allow fsync on directories */
    }
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new KdnetError(`cannot write ${file}: ${code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
}
