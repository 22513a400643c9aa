using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace ProcIsolates.Sandbox;

/// <summary>
/// On Windows, a job object of one sandboxed worker's own (nested in the host's kill-on-close job) with the limits
/// a job can enforce: one active process (no child processes), a process memory limit, and a hard CPU rate cap.
/// Not tested: the CI machine runs Linux.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed partial class WindowsSandboxJob : IDisposable
{
    private const int JobObjectExtendedLimitInformation = 9;
    private const int JobObjectCpuRateControlInformation = 15;
    private const uint LimitActiveProcess = 0x8;
    private const uint LimitProcessMemory = 0x100;
    private const uint CpuRateControlEnable = 0x1;
    private const uint CpuRateControlHardCap = 0x4;

    private readonly SafeFileHandle job;

    private WindowsSandboxJob(SafeFileHandle job) => this.job = job;

    /// <summary>Creates the job for <paramref name="sandbox"/>; <see langword="null"/> if it needs none.</summary>
    public static WindowsSandboxJob? Create(SandboxOptions sandbox)
    {
        if (sandbox.ChildProcesses && sandbox.MemoryLimit is null && sandbox.CpuLimit is null)
        {
            return null;
        }

        SafeFileHandle job = CreateJobObjectW(IntPtr.Zero, null);
        if (job.IsInvalid)
        {
            throw new SandboxNotSupportedException(nameof(SandboxOptions.ChildProcesses), $"CreateJobObject failed (error {Marshal.GetLastPInvokeError()})");
        }

        var limits = new ExtendedLimitInformation();
        if (!sandbox.ChildProcesses)
        {
            limits.BasicLimitInformation.LimitFlags |= LimitActiveProcess;
            limits.BasicLimitInformation.ActiveProcessLimit = 1;
        }

        if (sandbox.MemoryLimit is { } memory)
        {
            limits.BasicLimitInformation.LimitFlags |= LimitProcessMemory;
            limits.ProcessMemoryLimit = (nuint)memory;
        }

        if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, ref limits, (uint)Marshal.SizeOf<ExtendedLimitInformation>()))
        {
            job.Dispose();
            throw new SandboxNotSupportedException(sandbox.MemoryLimit is null ? nameof(SandboxOptions.ChildProcesses) : nameof(SandboxOptions.MemoryLimit), $"SetInformationJobObject failed (error {Marshal.GetLastPInvokeError()})");
        }

        if (sandbox.CpuLimit is { } cores)
        {
            // The rate is in 1/10,000 of all the machine's processors.
            var rate = new CpuRateControlInformation
            {
                ControlFlags = CpuRateControlEnable | CpuRateControlHardCap,
                CpuRate = (uint)Math.Clamp(Math.Round(cores / Environment.ProcessorCount * 10_000), 1, 10_000),
            };
            if (!SetCpuRate(job, JobObjectCpuRateControlInformation, ref rate, (uint)Marshal.SizeOf<CpuRateControlInformation>()))
            {
                job.Dispose();
                throw new SandboxNotSupportedException(nameof(SandboxOptions.CpuLimit), $"SetInformationJobObject(CPU rate) failed (error {Marshal.GetLastPInvokeError()})");
            }
        }

        return new WindowsSandboxJob(job);
    }

    /// <summary>Puts the started worker into the job.</summary>
    public void Assign(Process process)
    {
        if (!AssignProcessToJobObject(job, process.SafeHandle))
        {
            throw new SandboxNotSupportedException(nameof(SandboxOptions.ChildProcesses), $"AssignProcessToJobObject failed (error {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => job.Dispose();

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial SafeFileHandle CreateJobObjectW(IntPtr jobAttributes, string? name);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetInformationJobObject(SafeFileHandle job, int infoClass, ref ExtendedLimitInformation info, uint length);

    [LibraryImport("kernel32.dll", EntryPoint = "SetInformationJobObject", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetCpuRate(SafeFileHandle job, int infoClass, ref CpuRateControlInformation info, uint length);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool AssignProcessToJobObject(SafeFileHandle job, SafeProcessHandle process);

    // JOBOBJECT_BASIC_LIMIT_INFORMATION
    [StructLayout(LayoutKind.Sequential)]
    private struct BasicLimitInformation
    {
        public long PerProcessUserTimeLimit;
        public long PerJobUserTimeLimit;
        public uint LimitFlags;
        public nuint MinimumWorkingSetSize;
        public nuint MaximumWorkingSetSize;
        public uint ActiveProcessLimit;
        public nuint Affinity;
        public uint PriorityClass;
        public uint SchedulingClass;
    }

    // IO_COUNTERS
    [StructLayout(LayoutKind.Sequential)]
    private struct IoCounters
    {
        public ulong ReadOperationCount;
        public ulong WriteOperationCount;
        public ulong OtherOperationCount;
        public ulong ReadTransferCount;
        public ulong WriteTransferCount;
        public ulong OtherTransferCount;
    }

    // JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    [StructLayout(LayoutKind.Sequential)]
    private struct ExtendedLimitInformation
    {
        public BasicLimitInformation BasicLimitInformation;
        public IoCounters IoInfo;
        public nuint ProcessMemoryLimit;
        public nuint JobMemoryLimit;
        public nuint PeakProcessMemoryUsed;
        public nuint PeakJobMemoryUsed;
    }

    // JOBOBJECT_CPU_RATE_CONTROL_INFORMATION (the CpuRate member of its union)
    [StructLayout(LayoutKind.Sequential)]
    private struct CpuRateControlInformation
    {
        public uint ControlFlags;
        public uint CpuRate;
    }
}
