using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Calls;

/// <summary>
/// Turns <c>() =&gt; Type.Method(a, b)</c> into a <see cref="CallRequest"/>: it names the static method exactly
/// (type, metadata token, generic arguments) and evaluates and serializes the arguments here, in the caller.
/// </summary>
internal static class CallExpressionReader
{
    private static readonly ConcurrentDictionary<MethodInfo, MethodShape> Shapes = new();

    /// <summary>Reads the call.</summary>
    /// <param name="expression">The lambda.</param>
    /// <returns>The prepared call.</returns>
    /// <exception cref="ArgumentException">The lambda is not a call of a static method.</exception>
    /// <exception cref="NotShareableException">An argument cannot be shared.</exception>
    public static PreparedCall Read(LambdaExpression expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        Expression body = expression.Body;
        while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            body = convert.Operand;
        }

        // A static property read is a call of its getter.
        (MethodInfo method, IReadOnlyList<Expression> argumentExpressions) = body switch
        {
            MethodCallExpression { Object: null } call => (call.Method, call.Arguments),
            MemberExpression { Expression: null, Member: PropertyInfo { GetMethod: { } getter } } => (getter, []),
            _ => throw new ArgumentException(
                $"The expression must call a static method, like '() => Jobs.Run(42)'; '{expression.Body}' is not such a call.", nameof(expression)),
        };

        MethodShape shape = Shapes.GetOrAdd(method, MethodShape.From);
        byte[]?[] arguments = new byte[]?[shape.ParameterTypes.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            Type type = shape.ParameterTypes[i];
            if (type == typeof(CancellationToken))
            {
                continue; // Receives the call's own token in the worker.
            }

            object? value = Evaluate(argumentExpressions[i]);
            try
            {
                arguments[i] = ShareableSerializer.Serialize(type, value);
            }
            catch (NotShareableValueException ex)
            {
                throw new NotShareableException(
                    ex.ValueType.FullName ?? ex.ValueType.Name,
                    $"Argument '{shape.ParameterNames[i]}' of {shape.DisplayName} is not shareable: {ex.Reason}",
                    ex);
            }
        }

        var request = new CallRequest
        {
            DeclaringType = shape.DeclaringType,
            MetadataToken = shape.MetadataToken,
            MethodName = shape.Name,
            GenericArguments = shape.GenericArguments,
            Arguments = arguments,
        };
        return new PreparedCall(request, shape.ResultType, shape.DisplayName);
    }

    /// <summary>Evaluates an argument in the caller: constants and captured variables directly, anything else compiled.</summary>
    private static object? Evaluate(Expression expression) => expression switch
    {
        ConstantExpression constant => constant.Value,
        MemberExpression { Member: FieldInfo field } member => field.GetValue(member.Expression is null ? null : Evaluate(member.Expression)),
        MemberExpression { Member: PropertyInfo property } member => property.GetValue(member.Expression is null ? null : Evaluate(member.Expression)),
        UnaryExpression { NodeType: ExpressionType.Convert } convert when convert.Type.IsAssignableFrom(convert.Operand.Type) => Evaluate(convert.Operand),
        _ => Expression.Lambda<Func<object?>>(Expression.Convert(expression, typeof(object))).Compile(preferInterpretation: true)(),
    };

    private sealed record MethodShape(
        string DeclaringType, int MetadataToken, string Name, string[] GenericArguments, Type[] ParameterTypes, string[] ParameterNames, Type? ResultType, string DisplayName)
    {
        public static MethodShape From(MethodInfo method)
        {
            Type declaring = method.DeclaringType ?? throw new ArgumentException($"'{method.Name}' is a global method; only methods of types can be called.");
            // Assemblies without a file are fine (a single-file app's are inside its executable); emitted ones are not.
            if (declaring.Assembly.IsDynamic)
            {
                throw new ArgumentException($"'{declaring}' lives in a dynamic assembly, which a worker cannot load.");
            }

            ParameterInfo[] parameters = method.GetParameters();
            return new MethodShape(
                declaring.AssemblyQualifiedName!,
                method.MetadataToken,
                method.Name,
                method.IsGenericMethod ? method.GetGenericArguments().Select(t => t.AssemblyQualifiedName!).ToArray() : [],
                parameters.Select(p => p.ParameterType).ToArray(),
                parameters.Select(p => p.Name ?? "?").ToArray(),
                ResultTypeOf(method.ReturnType),
                $"{declaring.Name}.{method.Name}");
        }

        private static Type? ResultTypeOf(Type returnType)
        {
            if (returnType == typeof(void) || returnType == typeof(Task) || returnType == typeof(ValueTask))
            {
                return null;
            }

            if (returnType.IsGenericType && (returnType.GetGenericTypeDefinition() == typeof(Task<>) || returnType.GetGenericTypeDefinition() == typeof(ValueTask<>)))
            {
                return returnType.GetGenericArguments()[0];
            }

            return returnType;
        }
    }
}
