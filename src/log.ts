import pino, { type Logger } from 'pino';

// Structured JSON logs. Redaction is the last line of defence: the operator never logs secret
// values on purpose, and these paths make sure an object logged by mistake does not leak one.

export const REDACT_PATHS = [
  'password',
  '*.password',
  'data',
  '*.data',
  'stringData',
  '*.stringData',
  'material',
  '*.material',
  'keyPem',
  '*.keyPem',
  '*.*.keyPem',
  'cookie',
  '*.cookie',
  'erlangCookie',
  '*.erlangCookie',
  'backupKey',
  '*.backupKey',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { component: 'chat-tenant-operator' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
