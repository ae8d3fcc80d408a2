import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { TEST_POSTGRES_URL, uniqueSchema } from '../test-helpers/postgres.js'
import { openPostgresStudyStore } from './postgres.js'
import { describeStudyStoreContract } from './study-store.contract.js'

describeStudyStoreContract('postgres', async () => {
  const schema = uniqueSchema()
  const open = () => openPostgresStudyStore({ url: TEST_POSTGRES_URL, schema: schema.name })
  return { store: await open(), openAnother: open, dispose: () => schema.drop() }
})

describe('postgres study store', () => {
  it('says which server does not answer, without the password', async () => {
    const error = await openPostgresStudyStore({ url: 'postgres://postgres:secret@127.0.0.1:1/test' }).catch((e) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect(error.message).toContain('postgres://postgres:***@127.0.0.1:1/test')
    expect(error.message).not.toContain('secret')
  })

  it('refuses a schema that is not a plain identifier', async () => {
    await expect(openPostgresStudyStore({ url: TEST_POSTGRES_URL, schema: 'a"; drop' })).rejects.toThrow(
      /not a plain SQL identifier/,
    )
  })
})
