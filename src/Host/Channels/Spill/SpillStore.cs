using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using ProcIsolates.Worker;

namespace ProcIsolates.Channels.Spill;

/// <summary>
/// Large channel items travel through files rather than through the host. A writer puts an item of
/// <see cref="Threshold"/> bytes or more in a file of the host's spill directory and sends a <see cref="SpilledItem"/>
/// in its place; the broker holds and hands out that small reference like any item, and the reader reads the file.
/// The bytes are copied twice (into the file's pages, out of them) instead of through two sockets and the host's
/// heap. The host deletes a file when its item is taken for good: acknowledged by a worker's reader, read in the
/// host, taken back or refused. The directory is private to the user and, on Unix, cannot be listed (mode 0300):
/// files are opened by their unguessable names. The host deletes it when it exits; on Linux its workers delete it if
/// the host was killed.
/// </summary>
internal static class SpillStore
{
    /// <summary>Serialized items this long or longer are spilled.</summary>
    public const int Threshold = 256 * 1024;

    /// <summary>The tag of the files the host writes.</summary>
    public const string HostTag = "h";

    private const UnixFileMode Listable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode Unlistable = UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private static readonly Lock CreateGate = new();

    /// <summary>Files of workers that the broker holds items for, so that <see cref="DeleteOrphans"/> keeps them.</summary>
    private static readonly ConcurrentDictionary<string, byte> Held = new(StringComparer.Ordinal);

    /// <summary>
    /// In a worker: the files of delivered items, opened on arrival. The host deletes a file once the worker has
    /// acknowledged its item, and another thread of the worker may do that between the hand-out and the read; an open
    /// file stays readable after it is deleted.
    /// </summary>
    private static readonly ConditionalWeakTable<byte[], SafeFileHandle> Opened = [];

    private static string? hostDirectory;
    private static bool hostDirectoryFailed;
    private static long lastNumber;

    /// <summary>The host's spill directory, created on first use; <see langword="null"/> if it cannot be (items then travel whole).</summary>
    public static string? HostDirectory
    {
        get
        {
            if (hostDirectory is { } existing || hostDirectoryFailed)
            {
                return hostDirectory;
            }

            lock (CreateGate)
            {
                if (hostDirectory is null && !hostDirectoryFailed)
                {
                    try
                    {
                        string created = Directory.CreateTempSubdirectory("procisolates-").FullName;
                        SetListable(created, false);
                        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteDirectory();
                        hostDirectory = created;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        hostDirectoryFailed = true; // A read-only or missing temp directory: large items travel whole.
                    }
                }

                return hostDirectory;
            }
        }
    }

    private static bool IsWorker => WorkerContext.IsWorker;

    /// <summary>The spill directory this process knows of: in a worker, the one its host gave it, if any.</summary>
    private static string? KnownDirectory => IsWorker ? WorkerContext.SpillDirectory : hostDirectory;

    /// <summary>This process's files' tag, or <see langword="null"/> for a worker that was given none (it does not spill).</summary>
    private static string? Tag =>
        !IsWorker ? HostTag : WorkerContext.SpillTag is { } tag && SpilledItem.IsValidTag(tag) && tag != HostTag ? tag : null;

    /// <summary>A fresh tag for a worker's files.</summary>
    public static string NewWorkerTag() => "w" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>
    /// Puts a serialized item in a new file. Returns <see langword="false"/> when the item should travel whole instead:
    /// this process has no spill directory, or the file could not be written (the disk is full, say).
    /// </summary>
    public static bool TryWrite(ReadOnlySequence<byte> bytes, out byte[] reference)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            segments.Add(segment);
        }

        return TryWrite(segments, bytes.Length, out reference);
    }

    /// <summary>Puts a <c>byte[]</c> item in a new file as MessagePack <c>bin</c>, straight from the array.</summary>
    public static bool TryWrite(byte[] array, out byte[] reference)
    {
        byte[] header = array.Length <= byte.MaxValue ? [0xc4, (byte)array.Length]
            : array.Length <= ushort.MaxValue ? [0xc5, (byte)(array.Length >> 8), (byte)array.Length]
            : [0xc6, (byte)(array.Length >> 24), (byte)(array.Length >> 16), (byte)(array.Length >> 8), (byte)array.Length];
        return TryWrite([header, array], header.Length + (long)array.Length, out reference);
    }

    /// <summary>In a worker, when items arrive: opens the file of each spilled one (see <see cref="Opened"/>).</summary>
    public static void OpenDelivered(IEnumerable<byte[]> items)
    {
        foreach (byte[] item in items)
        {
            if (SpilledItem.TryParse(item, out SpilledItem spilled))
            {
                try
                {
                    Opened.AddOrUpdate(item, Open(spilled));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Read by name later, which reports the problem to the reader.
                }
            }
        }
    }

    /// <summary>Closes the file opened for an item that went back unread.</summary>
    public static void CloseDelivered(byte[] item)
    {
        if (Opened.TryGetValue(item, out SafeFileHandle? file) && Opened.Remove(item))
        {
            file.Dispose();
        }
    }

    /// <summary>Reads a spilled item's bytes into a pooled buffer and hands them to <paramref name="read"/>.</summary>
    /// <param name="item">The reference as the channel carried it.</param>
    /// <param name="spilled">The reference, parsed.</param>
    /// <param name="take">The item is being read, not peeked: the file opened on arrival, if any, is used and closed.</param>
    /// <param name="read">Deserializes the bytes.</param>
    /// <exception cref="IOException">The file is missing or has the wrong length.</exception>
    public static T Read<T>(byte[] item, SpilledItem spilled, bool take, Func<ReadOnlyMemory<byte>, T> read)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(spilled.Length);
        try
        {
            SafeFileHandle file = FileOf(item, spilled, take, out bool close);
            try
            {
                ReadExactly(file, spilled, buffer.AsSpan(0, spilled.Length), 0);
            }
            finally
            {
                if (close)
                {
                    file.Dispose();
                }
            }

            return read(buffer.AsMemory(0, spilled.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads a spilled <c>byte[]</c> item straight into the array the reader gets, skipping the pooled buffer and the
    /// deserializer's copy. Returns <see langword="false"/> if the file does not hold a MessagePack <c>bin</c> value.
    /// </summary>
    /// <exception cref="IOException">The file is missing or has the wrong length.</exception>
    public static bool TryReadByteArray(byte[] item, SpilledItem spilled, bool take, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? array)
    {
        array = null;
        SafeFileHandle file = FileOf(item, spilled, take, out bool close);
        try
        {
            Span<byte> header = stackalloc byte[5];
            int headerLength = spilled.Length < 5 || RandomAccess.Read(file, header, 0) < 5 ? 0 : header[0] switch
            {
                0xc4 => 2,
                0xc5 => 3,
                0xc6 => 5,
                _ => 0,
            };
            if (headerLength == 0)
            {
                return false;
            }

            long length = headerLength == 2 ? header[1] : headerLength == 3 ? BinaryPrimitives.ReadUInt16BigEndian(header[1..]) : BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (headerLength + length != spilled.Length)
            {
                return false;
            }

            byte[] result = GC.AllocateUninitializedArray<byte>((int)length);
            ReadExactly(file, spilled, result, headerLength);
            array = result;
            return true;
        }
        finally
        {
            if (close)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>The broker holds an item of this worker file: <see cref="DeleteOrphans"/> must keep it.</summary>
    public static void Hold(SpilledItem spilled) => Held[spilled.FileName] = 0;

    /// <summary>Deletes the file of an item that has been taken for good or dropped, if the item was spilled.</summary>
    public static void Discard(byte[] item)
    {
        if (SpilledItem.TryParse(item, out SpilledItem spilled))
        {
            Delete(spilled);
        }
    }

    /// <summary>Deletes a spilled item's file. Deleting one twice is harmless: file names are never reused.</summary>
    public static void Delete(SpilledItem spilled)
    {
        Held.TryRemove(spilled.FileName, out _);
        if (KnownDirectory is { } target)
        {
            FileCleanup.TryDeleteFile(Path.Combine(target, spilled.FileName));
        }
    }

    /// <summary>
    /// A worker is gone: deletes the files it wrote that no channel holds (written, but their frame never arrived).
    /// Host only.
    /// </summary>
    public static void DeleteOrphans(string workerTag)
    {
        if (IsWorker || hostDirectory is not { } target || !SpilledItem.IsValidTag(workerTag))
        {
            return;
        }

        try
        {
            SetListable(target, true);
            foreach (string path in Directory.EnumerateFiles(target, workerTag + "-*"))
            {
                if (!Held.ContainsKey(Path.GetFileName(path)))
                {
                    FileCleanup.TryDeleteFile(path);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory is gone: nothing to delete.
        }
        finally
        {
            SetListableQuietly(target, false);
        }
    }

    private static bool TryWrite(IReadOnlyList<ReadOnlyMemory<byte>> segments, long length, out byte[] reference)
    {
        reference = [];
        string? target = IsWorker ? WorkerContext.SpillDirectory : HostDirectory;
        if (target is null || Tag is not { } tag)
        {
            return false;
        }

        var spilled = new SpilledItem(tag, Interlocked.Increment(ref lastNumber), BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)), checked((int)length));
        string path = Path.Combine(target, spilled.FileName);
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
            RandomAccess.Write(file, segments, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            FileCleanup.TryDeleteFile(path);
            return false;
        }

        reference = spilled.ToBytes();
        return true;
    }

    private static SafeFileHandle FileOf(byte[] item, SpilledItem spilled, bool take, out bool close)
    {
        // A read takes the file opened on arrival; a peek opens its own (a peeked item is not handed out, so it cannot
        // have been acknowledged, and its file is still there).
        close = true;
        if (take && Opened.TryGetValue(item, out SafeFileHandle? opened) && Opened.Remove(item))
        {
            return opened;
        }

        return Open(spilled);
    }

    private static SafeFileHandle Open(SpilledItem spilled)
    {
        string path = Path.Combine(KnownDirectory ?? throw new IOException("this process has no spill directory."), spilled.FileName);
        if (new FileInfo(path).LinkTarget is not null)
        {
            throw new IOException($"the spill file '{spilled.FileName}' is a link.");
        }

        SafeFileHandle file = SpillFile.OpenForReading(path);
        try
        {
            // Only a regular file has the size its item announced (a FIFO or a device reports 0); nothing is read before this.
            if (RandomAccess.GetLength(file) != spilled.Length)
            {
                throw new IOException($"the spill file '{spilled.FileName}' does not hold the {spilled.Length} bytes its item announced.");
            }
        }
        catch (Exception ex) when (ex is not IOException)
        {
            file.Dispose();
            throw new IOException($"the spill file '{spilled.FileName}' is not a regular file.", ex);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return file;
    }

    private static void ReadExactly(SafeFileHandle file, SpilledItem spilled, Span<byte> destination, long offset)
    {
        int filled = 0;
        while (filled < destination.Length)
        {
            int count = RandomAccess.Read(file, destination[filled..], offset + filled);
            if (count == 0)
            {
                throw new IOException($"the spill file '{spilled.FileName}' ended early.");
            }

            filled += count;
        }
    }

    /// <summary>Deletes the host's spill directory and what is left in it (the host exits).</summary>
    private static void DeleteDirectory()
    {
        if (hostDirectory is not { } target)
        {
            return;
        }

        FileCleanup.TryDeleteDirectory(target);
    }

    private static void SetListable(string directory, bool listable)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, listable ? Listable : Unlistable);
        }
    }

    private static void SetListableQuietly(string directory, bool listable)
    {
        try
        {
            SetListable(directory, listable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory is gone.
        }
    }
}
