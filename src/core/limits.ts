/**
 * @module core/limits
 * Named limits (TigerBeetle style): every bound the system enforces has one name and one value here.
 */
export const requestBodyBytesMax = 1_048_576
export const batchBodyBytesMax = 4 * 1_048_576
export const transfersPerBatchMax = 8_190
export const pageSizeMax = 500
export const pageSizeDefault = 50
export const idempotencyKeyLengthMax = 255
export const idempotencyRetentionHours = 24
export const sessionTtlHours = 12
export const apiKeyPrefixLength = 12
export const requestTimeoutMs = 30_000
export const passwordLengthMin = 10
export const installmentsMax = 600
