using System.Collections;
using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ProcIsolates.Protocol.Serialization;

/// <summary>
/// Decides which types may cross between interpreters: data (primitives, strings, enums, dates, arrays, collections,
/// tuples, records and classes made of those) may; resources and behaviour (streams, delegates, tasks, handles,
/// threads, reflection objects, anything disposable) may not, because a copy of them in another process would be a lie.
/// </summary>
public static class ShareableTypes
{
    private static readonly ConcurrentDictionary<Type, string?> Verdicts = new();

    private static readonly Type[] ResourceTypes =
    [
        typeof(Delegate), typeof(Expression), typeof(MemberInfo), typeof(Stream), typeof(TextReader), typeof(TextWriter),
        typeof(Task), typeof(Thread), typeof(WaitHandle), typeof(SafeHandle), typeof(Assembly), typeof(Module),
    ];

    /// <summary>Tells why a type cannot be shared, or <see langword="null"/> if it can.</summary>
    /// <param name="type">The declared type.</param>
    /// <returns>The reason it is not shareable, or <see langword="null"/>.</returns>
    public static string? WhyNotShareable(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Verdicts.GetOrAdd(type, static t => Inspect(t, new HashSet<Type>()));
    }

    /// <summary>Throws unless <paramref name="value"/> can travel as <paramref name="declaredType"/> without losing anything.</summary>
    /// <param name="declaredType">The type the receiver expects.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="NotShareableValueException">It cannot.</exception>
    public static void EnsureValue(Type declaredType, object? value)
    {
        ArgumentNullException.ThrowIfNull(declaredType);
        if (WhyNotShareable(declaredType) is { } reason)
        {
            throw new NotShareableValueException(declaredType, reason);
        }

        if (value is null)
        {
            return;
        }

        if (Channels.ChannelEnds.IsEndType(declaredType))
        {
            if (value is not Channels.IInterpreterChannelEnd)
            {
                throw new NotShareableValueException(value.GetType(), "this channel lives in one process only; create channels that cross interpreters with Interpreters.CreateChannel.");
            }

            return;
        }

        Type actual = value.GetType();
        if (WhyNotShareable(actual) is { } actualReason)
        {
            throw new NotShareableValueException(actual, actualReason);
        }

        if (actual == declaredType || declaredType.IsValueType || declaredType.IsArray)
        {
            return;
        }

        if (declaredType == typeof(object))
        {
            if (!IsSelfDescribing(actual))
            {
                throw new NotShareableValueException(actual, "as 'object' only primitives, strings and arrays of them keep their type; declare the parameter or variable with the type itself.");
            }

            return;
        }

        if (!declaredType.IsInterface && !declaredType.IsAbstract)
        {
            // A subclass sent as its base type would lose its own members.
            throw new NotShareableValueException(actual, $"it would travel as its base type '{declaredType}' and lose its own members; declare it with its own type.");
        }
    }

    private static bool IsSelfDescribing(Type type) =>
        type.IsPrimitive || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime)
        || (type.IsArray && IsSelfDescribing(type.GetElementType()!));

    private static string? Inspect(Type type, HashSet<Type> visiting)
    {
        if (type.IsPointer || type.IsByRef || type.IsByRefLike || type == typeof(IntPtr) || type == typeof(UIntPtr))
        {
            return "pointers and by-ref types only mean something inside one process.";
        }

        if (type.IsGenericParameter || type.ContainsGenericParameters)
        {
            return "it is an open generic type.";
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(object) || type == typeof(decimal)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan) || type == typeof(Guid)
            || type == typeof(Uri) || type == typeof(Version) || type == typeof(DateOnly) || type == typeof(TimeOnly))
        {
            return null;
        }

        if (Channels.ChannelEnds.IsEndType(type))
        {
            return Inner(Channels.ChannelEnds.ItemType(type), visiting) is { } itemReason ? "its items are not shareable: " + itemReason : null;
        }

        if (type == typeof(CancellationToken))
        {
            return "a cancellation token belongs to one process; a CancellationToken parameter receives the call's own token instead.";
        }

        foreach (Type resource in ResourceTypes)
        {
            if (resource.IsAssignableFrom(type))
            {
                return $"it is a {resource.Name}, which only means something inside the process that made it.";
            }
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() is { } definition
            && (definition == typeof(ValueTask<>) || definition == typeof(Lazy<>)))
        {
            return "it stands for a computation, not a value.";
        }

        if (!type.IsValueType && (typeof(IDisposable).IsAssignableFrom(type) || typeof(IAsyncDisposable).IsAssignableFrom(type)))
        {
            return "it is disposable, so it owns a resource of its process.";
        }

        if (!visiting.Add(type))
        {
            return null; // A recursive type: judged where the recursion started.
        }

        try
        {
            if (type.IsArray)
            {
                return Inner(type.GetElementType()!, visiting);
            }

            if (type.IsGenericType && (typeof(IEnumerable).IsAssignableFrom(type) || type.IsInterface
                || Nullable.GetUnderlyingType(type) is not null || typeof(ITuple).IsAssignableFrom(type)
                || type.GetGenericTypeDefinition() == typeof(KeyValuePair<,>)))
            {
                foreach (Type argument in type.GetGenericArguments())
                {
                    if (Inner(argument, visiting) is { } reason)
                    {
                        return reason;
                    }
                }

                return type.IsInterface && !typeof(IEnumerable).IsAssignableFrom(type) ? "only collection interfaces can be recreated; declare a concrete type." : null;
            }

            if (type.IsInterface || type.IsAbstract)
            {
                return "an interface or abstract type cannot be recreated on the other side; declare a concrete type.";
            }

            if (typeof(IEnumerable).IsAssignableFrom(type))
            {
                return null; // A non-generic collection: MessagePack handles its items as objects.
            }

            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public))
            {
                if (property.GetIndexParameters().Length == 0 && property.GetMethod is { IsPublic: true }
                    && Inner(property.PropertyType, visiting) is { } reason)
                {
                    return $"its property '{property.Name}': {reason}";
                }
            }

            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public))
            {
                if (Inner(field.FieldType, visiting) is { } reason)
                {
                    return $"its field '{field.Name}': {reason}";
                }
            }

            return WhyStateWouldBeLost(type);
        }
        finally
        {
            visiting.Remove(type);
        }
    }

    /// <summary>
    /// A value travels as its public properties and fields, recreated through public setters or a constructor whose
    /// parameters are named after them. State kept anywhere else would arrive as default values, silently: such a type
    /// is refused, naming the member. Types that declare their own MessagePack contract are taken at their word.
    /// </summary>
    private static string? WhyStateWouldBeLost(Type type)
    {
        // The framework's own types are MessagePack's business (it has formatters for those that travel); types that
        // declare their own contract are taken at their word.
        string? assembly = type.Assembly.GetName().Name;
        if (assembly is null || assembly.StartsWith("System.", StringComparison.Ordinal) || assembly is "System" or "mscorlib" or "netstandard"
            || type.IsDefined(typeof(MessagePack.MessagePackObjectAttribute), inherit: true) || type.IsDefined(typeof(MessagePack.MessagePackFormatterAttribute), inherit: true))
        {
            return null;
        }

        PropertyInfo[] properties = type.GetProperties(BindingFlags.Instance | BindingFlags.Public);
        HashSet<string> constructorNames = type.GetConstructors(BindingFlags.Instance | BindingFlags.Public)
            .SelectMany(c => c.GetParameters()).Select(p => p.Name ?? string.Empty).ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (Type? declaring = type; declaring is not null && declaring != typeof(object) && declaring != typeof(ValueType); declaring = declaring.BaseType)
        {
            foreach (FieldInfo field in declaring.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.IsDefined(typeof(NonSerializedAttribute), inherit: false) || field.IsDefined(typeof(MessagePack.IgnoreMemberAttribute), inherit: true)
                    || typeof(Delegate).IsAssignableFrom(field.FieldType))
                {
                    continue; // Declared as not part of the value, or an event's handlers.
                }

                string member = MemberNameOf(field.Name);
                if (field.IsPublic ? !field.IsInitOnly || constructorNames.Contains(member) : IsCarriedByAProperty(member, properties, constructorNames))
                {
                    continue;
                }

                return field.IsPublic
                    ? $"its read-only field '{member}' holds state that would not travel (no public constructor sets it); it would arrive with its default value."
                    : $"its non-public field '{member}' holds state that would not travel (only public properties with a public setter, or set by a public constructor's parameter of the same name, and public fields do); it would arrive with its default value. Make it a public property, mark the field [IgnoreMember] or [NonSerialized] if losing it is fine, or give the type a MessagePack contract ([MessagePackObject]).";
            }
        }

        return null;
    }

    /// <summary>The member a field stands for: an auto-property's or a primary-constructor parameter's name, or the field's without a leading <c>_</c> or <c>m_</c>.</summary>
    private static string MemberNameOf(string field) =>
        field.StartsWith('<') && field.IndexOf('>', StringComparison.Ordinal) is int end and > 1 ? field[1..end]
        : field.StartsWith("m_", StringComparison.Ordinal) ? field[2..]
        : field.TrimStart('_');

    /// <summary>Whether a public property of that name (any case) carries the field's value across: readable, and set by a public setter or constructor.</summary>
    private static bool IsCarriedByAProperty(string member, PropertyInfo[] properties, HashSet<string> constructorNames) =>
        properties.Any(p => p.Name.Equals(member, StringComparison.OrdinalIgnoreCase) && p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }
            && (p.SetMethod is { IsPublic: true } || constructorNames.Contains(member) || constructorNames.Contains(p.Name)));

    private static string? Inner(Type type, HashSet<Type> visiting) =>
        Verdicts.TryGetValue(type, out string? known) ? known : Inspect(type, visiting);
}
