/**
 * Maps every error to a status and a body `{ error, code, details: [{ path, message }] }`. User mistakes get a
 * 4xx with what was wrong; our own bugs are logged with their stack and answered with a generic 500.
 * @module
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HTTP_STATUS, isScalemlError } from '../../core/errors.js'
import { toDotPath } from '../../core/issues.js'

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: string
  readonly code: string
  readonly details: readonly { readonly path: string; readonly message: string }[]
}

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send a JSON object.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type; send application/json.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the server accepts.',
}

/** Fastify error handler implementing the mapping above. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (isScalemlError(error)) {
    const body: ErrorBody = {
      error: error.message,
      code: error.code,
      details: error.issues.map((issue) => ({ path: toDotPath(issue.path), message: issue.message })),
    }
    void reply.status(HTTP_STATUS[error.code]).send(body)
    return
  }
  const status = (error as FastifyError).statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    const fastifyCode = (error as FastifyError).code ?? 'BAD_REQUEST'
    const message = FASTIFY_MESSAGES[fastifyCode] ?? error.message
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_INPUT'
    void reply.status(status).send({ error: message, code, details: [] } satisfies ErrorBody)
    return
  }
  request.log.error({ err: error }, 'unexpected error')
  void reply.status(500).send({ error: 'Internal server error.', code: 'INTERNAL', details: [] } satisfies ErrorBody)
}
