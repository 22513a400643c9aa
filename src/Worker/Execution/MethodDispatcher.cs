using System.Collections.Concurrent;
using System.Reflection;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Worker.Execution;

/// <summary>Finds the static method a <see cref="CallRequest"/> names, and calls it with deserialized arguments.</summary>
internal sealed class MethodDispatcher
{
    private readonly ConcurrentDictionary<string, ResolvedMethod> methods = new(StringComparer.Ordinal);

    /// <summary>Calls the method and serializes its result.</summary>
    /// <param name="request">The call.</param>
    /// <param name="cancellationToken">Given to the method's <see cref="CancellationToken"/> parameters.</param>
    /// <returns>The serialized result (<see langword="null"/> for void and <see cref="Task"/>).</returns>
    /// <exception cref="BadCallException">The method cannot be found or the request does not fit it.</exception>
    public async Task<byte[]?> InvokeAsync(CallRequest request, CancellationToken cancellationToken)
    {
        ResolvedMethod method = Resolve(request);
        if (request.Arguments.Length != method.Parameters.Length)
        {
            throw new BadCallException($"'{request.MethodName}' takes {method.Parameters.Length} arguments; the request carried {request.Arguments.Length}.");
        }

        object?[] arguments = new object?[method.Parameters.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            Type type = method.Parameters[i].ParameterType;
            arguments[i] = type == typeof(CancellationToken)
                ? cancellationToken
                : ShareableSerializer.Deserialize(type, request.Arguments[i] ?? throw new BadCallException($"Argument {i} of '{request.MethodName}' is missing."));
        }

        object? returned = method.Method.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
        if (returned is Task task)
        {
            await task.ConfigureAwait(false);
            returned = method.TaskResult?.GetValue(task);
        }
        else if (method.ValueTaskAsTask is not null && returned is not null)
        {
            var awaited = (Task)method.ValueTaskAsTask.Invoke(returned, null)!;
            await awaited.ConfigureAwait(false);
            returned = method.TaskResult?.GetValue(awaited);
        }

        return method.ResultType is null ? null : ShareableSerializer.Serialize(method.ResultType, returned);
    }

    private ResolvedMethod Resolve(CallRequest request)
    {
        string key = string.Join('|', request.DeclaringType, request.MetadataToken, string.Join(',', request.GenericArguments));
        return methods.TryGetValue(key, out ResolvedMethod? known) ? known : methods.GetOrAdd(key, _ => ResolvedMethod.From(request));
    }

    private sealed record ResolvedMethod(MethodInfo Method, ParameterInfo[] Parameters, Type? ResultType, PropertyInfo? TaskResult, MethodInfo? ValueTaskAsTask)
    {
        public static ResolvedMethod From(CallRequest request)
        {
            Type type;
            try
            {
                type = Type.GetType(request.DeclaringType, throwOnError: true)!;
            }
            catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
            {
                throw new BadCallException($"The worker cannot load type '{request.DeclaringType}': {ex.Message}", ex);
            }

            MethodInfo method = type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .FirstOrDefault(m => m.MetadataToken == request.MetadataToken && m.Name == request.MethodName)
                ?? throw new BadCallException($"'{type}' has no static method '{request.MethodName}' with token 0x{request.MetadataToken:x8}; the worker runs a different build of that assembly.");

            if (method.IsGenericMethodDefinition)
            {
                Type[] arguments;
                try
                {
                    arguments = request.GenericArguments.Select(name => Type.GetType(name, throwOnError: true)!).ToArray();
                    method = method.MakeGenericMethod(arguments);
                }
                catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException or ArgumentException)
                {
                    throw new BadCallException($"The generic arguments of '{request.MethodName}' do not fit: {ex.Message}", ex);
                }
            }
            else if (request.GenericArguments.Length != 0)
            {
                throw new BadCallException($"'{request.MethodName}' is not generic, yet the request carried generic arguments.");
            }

            Type returnType = method.ReturnType;
            Type? resultType = returnType;
            PropertyInfo? taskResult = null;
            MethodInfo? valueTaskAsTask = null;
            if (returnType == typeof(void) || returnType == typeof(Task) || returnType == typeof(ValueTask))
            {
                resultType = null;
                valueTaskAsTask = returnType == typeof(ValueTask) ? returnType.GetMethod(nameof(ValueTask.AsTask)) : null;
            }
            else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
            {
                resultType = returnType.GetGenericArguments()[0];
                taskResult = returnType.GetProperty(nameof(Task<int>.Result));
            }
            else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
            {
                resultType = returnType.GetGenericArguments()[0];
                valueTaskAsTask = returnType.GetMethod(nameof(ValueTask<int>.AsTask));
                taskResult = typeof(Task<>).MakeGenericType(resultType).GetProperty(nameof(Task<int>.Result));
            }

            return new ResolvedMethod(method, method.GetParameters(), resultType, taskResult, valueTaskAsTask);
        }
    }
}
