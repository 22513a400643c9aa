using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace ProcIsolates.Workers;

/// <summary>
/// On Windows, puts every worker into one job object that kills its processes when its last handle closes. The host
/// holds that handle until it exits, however it exits (even killed): Windows closes it then, and the workers die with
/// it. This is the Windows counterpart of Linux's parent-death signal; the end of a worker's standard input and of its
/// pipe remain the other mechanisms. Not tested on the CI machine, which runs Linux.
/// </summary>
[SupportedOSPlatform("windows")]
internal static partial class WindowsJob
{
    private const int JobObjectExtendedLimitInformation = 9;
    private const uint KillOnJobClose = 0x2000;

    private static readonly Lazy<SafeFileHandle?> Job = new(Create);

    /// <summary>Adds a started worker to the host's job; a failure is left to the other mechanisms.</summary>
    /// <param name="process">The worker, started.</param>
    /// <returns>Whether the worker is in the job.</returns>
    public static bool TryAssign(Process process)
    {
        SafeFileHandle? job = Job.Value;
        if (job is null)
        {
            return false;
        }

        try
        {
            return AssignProcessToJobObject(job, process.SafeHandle);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            return false; // The process is gone already.
        }
    }

    private static SafeFileHandle? Create()
    {
        SafeFileHandle job = CreateJobObjectW(IntPtr.Zero, null);
        if (job.IsInvalid)
        {
            job.Dispose();
            return null;
        }

        var limits = new ExtendedLimitInformation { BasicLimitInformation = new BasicLimitInformation { LimitFlags = KillOnJobClose } };
        if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, ref limits, (uint)Marshal.SizeOf<ExtendedLimitInformation>()))
        {
            job.Dispose();
            return null;
        }

        return job; // Never closed by us: the host's exit closes it, and that is what kills the workers.
    }

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial SafeFileHandle CreateJobObjectW(IntPtr jobAttributes, string? name);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetInformationJobObject(SafeFileHandle job, int infoClass, ref ExtendedLimitInformation info, uint length);

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
}
