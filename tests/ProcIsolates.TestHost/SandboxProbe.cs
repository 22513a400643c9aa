using ProcIsolates;

/// <summary>
/// The strict sandbox tried by an unprivileged host: each attempt runs as exec code in the sandboxed worker and prints
/// the exception type it met ("succeeded" if none). What needs privileges (a cgroup) must be refused up front.
/// </summary>
internal static class SandboxProbe
{
    public static async Task<int> RunAsync()
    {
        // The effective uid, from the kernel (there may be no passwd entry for it).
        Report("uid", File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2]);
        Report("strict supported", SandboxOptions.Strict.IsSupported(out string strictReason) ? "yes" : "no: " + strictReason);
        await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict });

        DirectoryInfo outside = Directory.CreateTempSubdirectory("procisolates-probe-");
        string secret = Path.Combine(outside.FullName, "secret");
        File.WriteAllText(secret, "host only");
        await AttemptAsync(jail, "tcp socket", "new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp).Dispose();");
        await AttemptAsync(jail, "start a shell", "System.Diagnostics.Process.Start(\"/bin/sh\", \"-c true\")!.WaitForExit();");
        await AttemptAsync(jail, "read outside", $"File.ReadAllText(\"{secret}\");");
        await AttemptAsync(jail, "write outside", $"File.WriteAllText(\"{Path.Combine(outside.FullName, "escaped")}\", \"x\");");
        await AttemptAsync(jail, "read host environ", $"File.ReadAllBytes(\"/proc/{Environment.ProcessId}/environ\");");
        await AttemptAsync(jail, "signal host", $"System.Diagnostics.Process.GetProcessById({Environment.ProcessId}).Kill();");
        await AttemptAsync(jail, "write own temp", "File.WriteAllText(Path.Combine(Path.GetTempPath(), \"mine\"), \"x\"); File.ReadAllText(Path.Combine(Path.GetTempPath(), \"mine\"));");
        Report("escaped file exists", File.Exists(Path.Combine(outside.FullName, "escaped")) ? "yes" : "no");
        outside.Delete(recursive: true);

        // A spilled channel item through the sandbox, both ways.
        var channel = Interpreters.CreateChannel<byte[]>();
        await channel.Writer.WriteAsync(new byte[1 << 20]);
        ExecResult echoed = await jail.ExecAsync("var item = await reader.ReadAsync(); await writer.WriteAsync(item); Console.Write(item.Length);", new Dictionary<string, object?> { ["reader"] = channel.Reader, ["writer"] = channel.Writer });
        Report("channel item", echoed.Stdout + " " + (await channel.Reader.ReadAsync()).Length);

        // Limits need a cgroup of this user's own: without a delegated one, refused before anything starts.
        SandboxOptions limited = SandboxOptions.Strict with { MemoryLimit = 256L << 20 };
        Report("memory limit supported", limited.IsSupported(out string reason) ? "yes" : "no: " + reason);
        try
        {
            await using Interpreter limitedJail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = limited });
            Report("memory limit create", "created");
        }
        catch (SandboxNotSupportedException refused)
        {
            Report("memory limit create", $"{nameof(SandboxNotSupportedException)} {refused.Restriction}");
        }

        foreach ((string name, SandboxOptions sandbox) in new[] { ("threads", SandboxOptions.Strict with { MaxThreads = 64 }), ("cpu", SandboxOptions.Strict with { CpuLimit = 0.5 }) })
        {
            try
            {
                await using Interpreter other = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = sandbox });
                Report($"{name} limit create", "created");
            }
            catch (SandboxNotSupportedException refused)
            {
                Report($"{name} limit create", $"{nameof(SandboxNotSupportedException)} {refused.Restriction}");
            }
        }

        Report("done", "yes");
        return 0;
    }

    private static async Task AttemptAsync(Interpreter jail, string name, string code)
    {
        ExecResult result = await jail.ExecAsync($"try {{ {code} Console.Write(\"succeeded\"); }} catch (Exception e) {{ Console.Write(e.GetType().Name); }}");
        Report(name, result.Stdout);
    }

    private static void Report(string name, string outcome)
    {
        Console.WriteLine($"{name}: {outcome}");
        Console.Out.Flush();
    }
}
