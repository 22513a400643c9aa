using Microsoft.Extensions.Logging;

namespace ProcIsolates.Tests;

/// <summary>Regressions from review: things a worker or a user callback does that must not hang or hurt the host.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public async Task A_child_process_that_keeps_the_workers_stderr_open_does_not_hang_close()
    {
        Interpreter interpreter = await Interpreters.CreateAsync();
        ExecResult started = await interpreter.ExecAsync("Console.Write(System.Diagnostics.Process.Start(\"sleep\", \"30\").Id);");
        int child = int.Parse(started.Stdout, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await interpreter.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(InterpreterState.Closed, interpreter.State);
        }
        finally
        {
            if (Processes.IsAlive(child))
            {
                Processes.KillHard(child);
            }
        }
    }

    [Fact]
    public async Task A_logger_that_throws_does_not_hurt_the_host()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = new ThrowingLoggerFactory() });
        await interpreter.ExecAsync("using var err = Console.OpenStandardError(); err.Write(\"to a broken logger\\n\"u8); err.Flush();");
        await Task.Delay(200);
        Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Fact]
    public async Task A_Crashed_handler_that_throws_does_not_stop_the_crash_handling()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        interpreter.Crashed += (_, _) => throw new InvalidOperationException("a careless handler");
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Exit(2)));
        await LifecycleTests.WaitUntilAsync(() => interpreter.State == InterpreterState.Crashed);
        Assert.DoesNotContain(interpreter, Interpreters.ListAll());
    }

    private sealed class ThrowingLoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new InvalidOperationException("the logging provider is broken");
        }
    }
}
