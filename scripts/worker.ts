/**
 * A worker process of the experiment runner (lib/experiments/protocol/runner.ts):
 * receives jobs over IPC, runs each, saves its record, answers {ok}. Started
 * by the runner with one BLAS thread and the parent's code version.
 */
import "../lib/experiments/registry"; // registers the experiments' named prepare steps and hooks
import { executeJob, type Job } from "../lib/experiments/protocol/runner";

process.on("message", (m: { job: Job; force: boolean }) => {
  executeJob(m.job, { force: m.force }).then(
    () => process.send!({ ok: true }),
    (e: Error) => process.send!({ ok: false, error: e.stack ?? e.message }),
  );
});
process.on("disconnect", () => process.exit(0));
