using System.Reflection;
using Xunit.Sdk;

namespace ProcIsolates.Tests;

/// <summary>Runs a theory once for each isolation level: the test method takes an <see cref="Isolation"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AllIsolationsAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        Enum.GetValues<Isolation>().Select(isolation => new object[] { isolation });
}
