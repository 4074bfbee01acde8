/**
 * An algorithm that makes system calls, written once as a generator: it yields each request and is answered
 * with the outcome. `runSteps` answers on the spot (the calls block the thread); `runStepsAsync` awaits each
 * answer, so the calls can run on worker threads while the event loop goes on.
 */
export function runSteps<Request, Outcome, Result>(steps: Generator<Request, Result, Outcome>, answer: (r: Request) => Outcome): Result {
  let step = steps.next();
  while (!step.done) step = steps.next(answer(step.value));
  return step.value;
}

export async function runStepsAsync<Request, Outcome, Result>(
  steps: Generator<Request, Result, Outcome>,
  answer: (r: Request) => Promise<Outcome>,
): Promise<Result> {
  let step = steps.next();
  while (!step.done) step = steps.next(await answer(step.value));
  return step.value;
}

/** A failure as a step's answer: the algorithm decides what it means (retry, fall back, give up). */
export interface Failed {
  readonly error: unknown;
}

/** What `call` returns, or how it failed. */
export function settle<T>(call: () => T): T | Failed {
  try {
    return call();
  } catch (error) {
    return { error };
  }
}

/** What `work` resolves to, or how it failed. */
export function settleAsync<T>(work: Promise<T>): Promise<T | Failed> {
  return work.catch((error: unknown): Failed => ({ error }));
}
