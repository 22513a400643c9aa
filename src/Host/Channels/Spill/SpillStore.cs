using System.Buffers;
using System.Collections.Concurrent;
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
/// host, taken back or refused. The directory is private to the user (created by
/// <see cref="Directory.CreateTempSubdirectory(string?)"/>) and is deleted when the host exits; its workers delete it
/// if the host dies without doing so.
/// </summary>
internal static class SpillStore
{
    /// <summary>Serialized items this long or longer are spilled.</summary>
    public const int Threshold = 128 * 1024;

    /// <summary>The tag of the files the host writes.</summary>
    public const string HostTag = "h";

    private static readonly Lock CreateGate = new();

    /// <summary>Files of workers that the broker holds items for, so that <see cref="DeleteOrphans"/> keeps them.</summary>
    private static readonly ConcurrentDictionary<string, byte> Held = new(StringComparer.Ordinal);

    private static string? hostDirectory;
    private static long lastNumber;

    /// <summary>The host's spill directory, created on first use (in the host).</summary>
    public static string HostDirectory
    {
        get
        {
            if (hostDirectory is { } existing)
            {
                return existing;
            }

            lock (CreateGate)
            {
                if (hostDirectory is null)
                {
                    string created = Directory.CreateTempSubdirectory("procisolates-").FullName;
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteDirectory();
                    hostDirectory = created;
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
    /// this worker has no spill directory, or the file could not be written (the disk is full, say).
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

    private static bool TryWrite(IReadOnlyList<ReadOnlyMemory<byte>> segments, long length, out byte[] reference)
    {
        reference = [];
        string? target = IsWorker ? WorkerContext.SpillDirectory : HostDirectory;
        if (target is null || Tag is not { } tag)
        {
            return false;
        }

        var spilled = new SpilledItem(tag, Interlocked.Increment(ref lastNumber), checked((int)length));
        string path = Path.Combine(target, spilled.FileName);
        try
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
            RandomAccess.Write(file, segments, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(path);
            return false;
        }

        reference = spilled.ToBytes();
        return true;
    }

    /// <summary>
    /// Reads a spilled <c>byte[]</c> item straight into the array the reader gets, skipping the pooled buffer and the
    /// deserializer's copy. Returns <see langword="false"/> (having read nothing) if the file does not hold a
    /// MessagePack <c>bin</c> value.
    /// </summary>
    /// <exception cref="IOException">The file is missing or has the wrong length.</exception>
    public static bool TryReadByteArray(SpilledItem spilled, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? array)
    {
        array = null;
        using SafeFileHandle file = Open(spilled);
        Span<byte> header = stackalloc byte[5];
        int headerLength = spilled.Length < 5 ? 0 : RandomAccess.Read(file, header, 0) < 5 ? 0 : header[0] switch
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

        long length = headerLength == 2 ? header[1] : headerLength == 3 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(header[1..]) : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (headerLength + length != spilled.Length)
        {
            return false;
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)length);
        ReadExactly(file, spilled, result, headerLength);
        array = result;
        return true;
    }

    /// <summary>Reads a spilled item's bytes into a pooled buffer and hands them to <paramref name="read"/>.</summary>
    /// <exception cref="IOException">The file is missing or has the wrong length.</exception>
    public static T Read<T>(SpilledItem spilled, Func<ReadOnlyMemory<byte>, T> read)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(spilled.Length);
        try
        {
            using (SafeFileHandle file = Open(spilled))
            {
                ReadExactly(file, spilled, buffer.AsSpan(0, spilled.Length), 0);
            }

            return read(buffer.AsMemory(0, spilled.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static SafeFileHandle Open(SpilledItem spilled)
    {
        string path = Path.Combine(KnownDirectory ?? throw new IOException("this process has no spill directory."), spilled.FileName);
        SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (RandomAccess.GetLength(file) != spilled.Length)
        {
            file.Dispose();
            throw new IOException($"the spill file '{spilled.FileName}' does not hold the {spilled.Length} bytes its item announced.");
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

    /// <summary>Deletes a spilled item's file. Deleting one twice is harmless: file numbers are never reused.</summary>
    public static void Delete(SpilledItem spilled)
    {
        Held.TryRemove(spilled.FileName, out _);
        if (KnownDirectory is { } target)
        {
            TryDelete(Path.Combine(target, spilled.FileName));
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
            foreach (string path in Directory.EnumerateFiles(target, workerTag + "-*"))
            {
                if (!Held.ContainsKey(Path.GetFileName(path)))
                {
                    TryDelete(path);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory is gone: nothing to delete.
        }
    }

    /// <summary>Deletes the host's spill directory and what is left in it (the host exits).</summary>
    private static void DeleteDirectory()
    {
        if (hostDirectory is not { } target)
        {
            return;
        }

        try
        {
            Directory.Delete(target, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already gone, or another process is deleting it.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or its directory is: nothing to free.
        }
    }
}
