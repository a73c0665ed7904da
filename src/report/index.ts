export * from './evidence.js';
export * from './configuration.js';
export * from './backups.js';
