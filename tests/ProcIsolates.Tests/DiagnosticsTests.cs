using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using ProcIsolates.Diagnostics;

namespace ProcIsolates.Tests;

[Collection(nameof(Serial))]
public sealed class DiagnosticsTests
{
    [Fact]
    public async Task Worker_stderr_and_lifecycle_reach_the_logger_tagged_with_the_interpreter_id()
    {
        var logs = new CapturingLoggerFactory();
        Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = logs });
        await interpreter.ExecAsync("using var err = Console.OpenStandardError(); err.Write(\"straight to the worker's stderr\\n\"u8); err.Flush();");
        await LifecycleTests.WaitUntilAsync(() => logs.Entries.Any(e => e.Message.Contains("straight to the worker's stderr", StringComparison.Ordinal)));
        await interpreter.CloseAsync();

        CapturingLoggerFactory.Entry stderr = logs.Entries.Single(e => e.Message.Contains("straight to the worker's stderr", StringComparison.Ordinal));
        Assert.Equal("ProcIsolates.Interpreter", stderr.Category);
        Assert.Equal(LogLevel.Warning, stderr.Level);
        Assert.Equal(interpreter.Id, stderr.Values["InterpreterId"]);
        Assert.Equal(interpreter.ProcessId, stderr.Values["ProcessId"]);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 1 && Equals(e.Values["InterpreterId"], interpreter.Id));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 5 && Equals(e.Values["InterpreterId"], interpreter.Id));
    }

    [Fact]
    public async Task A_crash_is_logged_as_an_error_with_the_crash_exception()
    {
        var logs = new CapturingLoggerFactory();
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = logs });
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Exit(7)));
        await LifecycleTests.WaitUntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 3));
        CapturingLoggerFactory.Entry crash = logs.Entries.Single(e => e.EventId.Id == 3);
        Assert.Equal(LogLevel.Error, crash.Level);
        Assert.Equal(7, Assert.IsType<InterpreterCrashedException>(crash.Exception).ExitCode);
    }

    [Fact]
    public async Task Calls_execs_and_crashes_are_counted_and_timed()
    {
        var counts = new Dictionary<string, long>();
        var durations = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProcIsolatesTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name + string.Concat(tags.ToArray().Select(t => $"|{t.Key}={t.Value}"));
            lock (counts)
            {
                counts[key] = counts.GetValueOrDefault(key) + value;
            }
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (durations)
            {
                durations.Add(value);
            }
        });
        listener.Start();

        await using Interpreter interpreter = await Interpreters.CreateAsync();
        await interpreter.CallAsync(() => TestMethods.Add(1, 2));
        await interpreter.CallAsync(() => TestMethods.Add(3, 4));
        await interpreter.ExecAsync("Console.Write(1);");
        await Assert.ThrowsAsync<ExecutionFailedException>(() => interpreter.CallAsync(() => TestMethods.Throw("x")));
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Exit(1)));
        listener.RecordObservableInstruments();

        lock (counts)
        {
            Assert.Equal(1, counts.GetValueOrDefault("procisolates.interpreters.created"));
            Assert.Equal(2, counts.GetValueOrDefault("procisolates.operations|procisolates.operation=call|procisolates.outcome=ok"));
            Assert.Equal(1, counts.GetValueOrDefault("procisolates.operations|procisolates.operation=exec|procisolates.outcome=ok"));
            Assert.Equal(1, counts.GetValueOrDefault("procisolates.operations|procisolates.operation=call|procisolates.outcome=error"));
            Assert.Equal(1, counts.GetValueOrDefault("procisolates.operations|procisolates.operation=call|procisolates.outcome=crashed"));
            Assert.Equal(1, counts.GetValueOrDefault("procisolates.interpreters.crashes"));
        }

        lock (durations)
        {
            Assert.Equal(5, durations.Count);
            Assert.All(durations, d => Assert.True(d > 0));
        }
    }

    [Fact]
    public async Task Each_exec_and_call_is_an_activity_tagged_with_interpreter_and_outcome()
    {
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ProcIsolatesTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (activities)
                {
                    activities.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using Interpreter interpreter = await Interpreters.CreateAsync();
        await interpreter.CallAsync(() => TestMethods.Add(1, 2));
        await Assert.ThrowsAsync<ExecutionFailedException>(() => interpreter.ExecAsync("throw new Exception(\"no\");"));

        Activity[] mine;
        lock (activities)
        {
            mine = activities.Where(a => Equals(a.GetTagItem("procisolates.interpreter.id"), interpreter.Id)).ToArray();
        }

        Assert.Equal(["ProcIsolates.call", "ProcIsolates.exec"], mine.Select(a => a.OperationName));
        Assert.Equal("TestMethods.Add", mine[0].GetTagItem("code.function"));
        Assert.Equal(ActivityStatusCode.Unset, mine[0].Status);
        Assert.Equal(ActivityStatusCode.Error, mine[1].Status);
        Assert.Equal("error", mine[1].GetTagItem("procisolates.outcome"));
    }

    [Fact]
    public async Task Channel_items_and_channels_are_counted()
    {
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProcIsolatesTelemetry.Name && instrument.Name.Contains("channel", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (counts)
            {
                counts[instrument.Name] = counts.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            lock (counts)
            {
                counts[instrument.Name] = value;
            }
        });
        listener.Start();

        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        await using Interpreter worker = await Interpreters.CreateAsync();
        channel.Writer.TryWrite(1);
        await worker.CallAsync(() => Channels.ChannelJobs.Produce(channel.Writer, 3, false)); // 3 more, from a worker
        listener.RecordObservableInstruments();

        lock (counts)
        {
            Assert.True(counts.GetValueOrDefault("procisolates.channels.created") >= 1);
            Assert.True(counts.GetValueOrDefault("procisolates.channel.items") >= 4);
            Assert.True(counts.GetValueOrDefault("procisolates.channels.live") >= 1);
        }
    }
}
