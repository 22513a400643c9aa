using ProcIsolates.Worker;

return await WorkerProcess.RunAsync(args).ConfigureAwait(false);
