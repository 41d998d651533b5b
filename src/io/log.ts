/** Structured logs: pino JSON lines on standard error, never on standard output. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ name: 'samebatch', level, base: null }, pino.destination({ dest: 2, sync: true }));
}
