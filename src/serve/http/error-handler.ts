/**
 * Maps every error to a status and a body `{ error, code, details: [{ path, message }] }`. User mistakes get a
 * 4xx with what was wrong (a body over the limit names the limit; a full queue adds `Retry-After`); our own bugs are
 * logged with their stack and answered with a generic 500.
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HTTP_STATUS, isScalemlError } from '../../core/errors.js'
import { toDotPath } from '../../core/issues.js'
import { retryAfterOf } from '../runtime/runtime-errors.js'

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: string
  readonly code: string
  readonly details: readonly { readonly path: string; readonly message: string }[]
}

/** Options of {@link createErrorHandler}. */
export interface ErrorHandlerOptions {
  /** The server's body limit in bytes, named in the 413 message. */
  readonly bodyLimit?: number
  /** Told the code of every error answer (for metrics). */
  readonly onError?: (request: FastifyRequest, code: string) => void
}

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send a JSON object.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type; send application/json.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the server accepts.',
}

/** A Fastify error handler implementing the mapping above. */
export function createErrorHandler(
  options: ErrorHandlerOptions = {},
): (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => void {
  const tooLarge =
    options.bodyLimit === undefined
      ? FASTIFY_MESSAGES.FST_ERR_CTP_BODY_TOO_LARGE!
      : `The request body is larger than the server accepts: the limit is ${options.bodyLimit} bytes (${formatBytes(options.bodyLimit)}). Send fewer rows per request.`
  return (error, request, reply) => {
    if (isScalemlError(error)) {
      const body: ErrorBody = {
        error: error.message,
        code: error.code,
        details: error.issues.map((issue) => ({ path: toDotPath(issue.path), message: issue.message })),
      }
      const retryAfter = retryAfterOf(error)
      if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
      options.onError?.(request, error.code)
      void reply.status(HTTP_STATUS[error.code]).send(body)
      return
    }
    const status = (error as FastifyError).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      const fastifyCode = (error as FastifyError).code ?? 'BAD_REQUEST'
      const message =
        fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLarge : (FASTIFY_MESSAGES[fastifyCode] ?? error.message)
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_INPUT'
      options.onError?.(request, code)
      void reply.status(status).send({ error: message, code, details: [] } satisfies ErrorBody)
      return
    }
    request.log.error({ err: error }, 'unexpected error')
    options.onError?.(request, 'INTERNAL')
    void reply.status(500).send({ error: 'Internal server error.', code: 'INTERNAL', details: [] } satisfies ErrorBody)
  }
}

/** The default handler (no body limit in its messages). */
export const handleError = createErrorHandler()

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}
