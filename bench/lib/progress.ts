/** Progress and diagnostics go to stderr; stdout carries only the final table. */
const started = Date.now();

export function progress(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

/** @jupyterlab/services logs with console.debug, which Node writes to stdout: send all console output to stderr. */
export function consoleToStderr(): void {
  const toStderr = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = () => {};
  console.warn = toStderr;
}
