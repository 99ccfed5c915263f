/**
 * @module log
 * pino, always to stderr: stdout belongs to command results (CLI contract).
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(level: string, name = 'puhui'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }))
}
