using System.Text;

namespace ProcIsolates.Compilation;

/// <summary>Writes a <see cref="Type"/> as C# source, fully qualified, for generated code.</summary>
internal static class CSharpTypeName
{
    public static string Of(Type type)
    {
        var builder = new StringBuilder();
        Append(builder, type);
        return builder.ToString();
    }

    private static void Append(StringBuilder builder, Type type)
    {
        if (type.IsArray)
        {
            Append(builder, type.GetElementType()!);
            builder.Append('[').Append(',', type.GetArrayRank() - 1).Append(']');
            return;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            Append(builder, underlying);
            builder.Append('?');
            return;
        }

        Type[] arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        AppendQualified(builder, type, arguments, arguments.Length);
    }

    private static void AppendQualified(StringBuilder builder, Type type, Type[] allArguments, int argumentCount)
    {
        // Nested types carry their outer types' generic arguments first.
        int own = argumentCount;
        if (type.DeclaringType is { } outer)
        {
            int outerCount = outer.IsGenericTypeDefinition ? outer.GetGenericArguments().Length : 0;
            AppendQualified(builder, outer, allArguments, outerCount);
            builder.Append('.');
            own = argumentCount - outerCount;
            AppendName(builder, type.Name, allArguments.AsSpan(outerCount, own));
            return;
        }

        builder.Append("global::");
        if (!string.IsNullOrEmpty(type.Namespace))
        {
            builder.Append(type.Namespace).Append('.');
        }

        AppendName(builder, type.Name, allArguments.AsSpan(0, own));
    }

    private static void AppendName(StringBuilder builder, string name, ReadOnlySpan<Type> arguments)
    {
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        builder.Append(tick < 0 ? name : name[..tick]);
        if (arguments.Length == 0)
        {
            return;
        }

        builder.Append('<');
        for (int i = 0; i < arguments.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            Append(builder, arguments[i]);
        }

        builder.Append('>');
    }
}
