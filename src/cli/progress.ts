/**
 * @module cli/progress
 * Progress bars for long CLI work: on stderr, and only when stderr is a terminal (CLI contract).
 */
import cliProgress from 'cli-progress'

export type Progress = { tick(n?: number): void; stop(): void }

export function startProgress(label: string, total: number): Progress {
  if (!process.stderr.isTTY) return { tick: () => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta}s`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
  bar.start(total, 0)
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() }
}
