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
