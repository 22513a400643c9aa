using System.Threading.Channels;

namespace ProcIsolates.Tour;

/// <summary>A range of numbers to count primes in.</summary>
public sealed record Job(long From, long To);

/// <summary>The count for one job, and which interpreter counted it.</summary>
public sealed record Result(Job Job, long Primes, long Interpreter);

/// <summary>A consumer that runs in a worker: takes jobs from one channel, puts results on another.</summary>
public static class PrimeWorker
{
    /// <summary>Counts primes for every job until the jobs channel is completed and drained; returns how many jobs it did.</summary>
    public static async Task<int> Run(ChannelReader<Job> jobs, ChannelWriter<Result> results)
    {
        int done = 0;
        await foreach (Job job in jobs.ReadAllAsync())
        {
            await results.WriteAsync(new Result(job, Primes.CountIn(job.From, job.To), Interpreters.Current.Id));
            done++;
        }

        return done;
    }
}
