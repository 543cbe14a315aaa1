// Caffe-style log lines ("I1124 20:14:18.123456 12345 file.cpp:42] message") are what users grep;
// kdnet keeps the message text and a short prefix, and routes everything through one sink so tests
// and the CLI can capture it.

export type LogLevel = 'I' | 'W' | 'E';
export type LogSink = (level: LogLevel, message: string) => void;

let sink: LogSink = (level, message) => {
  const line = `${prefix(level)} ${message}\n`;
  if (level === 'I') process.stdout.write(line);
  else process.stderr.write(line);
};

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** glog's line prefix (`I1124 20:14:18.123456 12345 kdnet]`), which Caffe's log parsers expect. */
export function prefix(level: LogLevel): string {
  const d = new Date();
  return `${level}${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(
    d.getSeconds(),
  )}.${pad(d.getMilliseconds(), 3)}000 ${pad(process.pid, 5)} kdnet]`;
}

export function setLogSink(s: LogSink): LogSink {
  const old = sink;
  sink = s;
  return old;
}

export const log = {
  info: (m: string) => sink('I', m),
  warn: (m: string) => sink('W', m),
  error: (m: string) => sink('E', m),
};
