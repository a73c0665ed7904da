/** An error answer of the API server, with what callers branch on. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${message}`);
    this.name = 'ApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.statusCode === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.statusCode === 409;
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.statusCode === 410;
/** Rejected by validation or admission (including CEL and Pod Security): retrying will not help. */
export const isInvalid = (e: unknown): boolean => e instanceof ApiError && (e.statusCode === 422 || e.statusCode === 400 || e.statusCode === 403);
