using System.Runtime.InteropServices;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// Takes every capability away from a worker started by a root host: the bounding set is emptied and the "root gets
/// all capabilities at exec" rule is switched off and locked (<c>SECBIT_NOROOT</c>), so the re-executed worker keeps uid 0
/// but no privilege (it cannot reboot, load modules, change the clock, or override file permissions). Without
/// <c>CAP_SETPCAP</c> (an ordinary user) there is nothing to take, and this does nothing.
/// </summary>
internal static partial class Capabilities
{
    private const int PrCapbsetDrop = 24;
    private const int PrSetSecurebits = 28;

    // SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_KEEP_CAPS_LOCKED, SECBIT_NO_CAP_AMBIENT_RAISE, each with its lock.
    private const uint LockedSecureBits = 0b1111_1111 & ~(1u << 4);

    /// <summary>Drops what this process may drop; takes effect for good at the next exec.</summary>
    public static void DropAll()
    {
        if (SetSecureBits(PrSetSecurebits, LockedSecureBits, 0, 0, 0) != 0)
        {
            return; // No CAP_SETPCAP: an unprivileged process, which has no capabilities to lose.
        }

        for (nuint capability = 0; capability < 64; capability++)
        {
            if (DropBounding(PrCapbsetDrop, capability, 0, 0, 0) != 0)
            {
                break; // EINVAL: past the last capability this kernel knows.
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int SetSecureBits(int option, nuint bits, nuint unused3, nuint unused4, nuint unused5);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int DropBounding(int option, nuint capability, nuint unused3, nuint unused4, nuint unused5);
}
