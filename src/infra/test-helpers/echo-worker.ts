/** A worker for worker.test.ts: answers each number with its double, proving the module ran. */
import { parentPort } from 'node:worker_threads'

parentPort?.on('message', (value: number) => {
  parentPort?.postMessage(value * 2)
})
