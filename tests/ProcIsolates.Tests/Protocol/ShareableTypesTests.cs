using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Tests.Protocol;

public sealed class ShareableTypesTests
{
    [Theory]
    [InlineData(typeof(int))]
    [InlineData(typeof(string))]
    [InlineData(typeof(byte[]))]
    [InlineData(typeof(Point))]
    [InlineData(typeof(Shape))]
    [InlineData(typeof(List<Point>))]
    [InlineData(typeof(Dictionary<string, int[]>))]
    [InlineData(typeof((int, string)))]
    [InlineData(typeof(int?))]
    [InlineData(typeof(IReadOnlyList<string>))]
    [InlineData(typeof(object))]
    public void Data_is_shareable(Type type) => Assert.Null(ShareableTypes.WhyNotShareable(type));

    [Theory]
    [InlineData(typeof(Stream), "Stream")]
    [InlineData(typeof(MemoryStream), "Stream")]
    [InlineData(typeof(Action), "Delegate")]
    [InlineData(typeof(Func<int>), "Delegate")]
    [InlineData(typeof(Task<int>), "Task")]
    [InlineData(typeof(Thread), "Thread")]
    [InlineData(typeof(CancellationToken), "cancellation token")]
    [InlineData(typeof(CancellationTokenSource), "disposable")]
    [InlineData(typeof(IntPtr), "pointers")]
    [InlineData(typeof(Type), "MemberInfo")]
    [InlineData(typeof(List<Stream>), "Stream")]
    [InlineData(typeof(IComparable), "interface")]
    public void Resources_and_behaviour_are_not_shareable(Type type, string reason)
    {
        string? why = ShareableTypes.WhyNotShareable(type);
        Assert.NotNull(why);
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_with_a_stream_inside_names_the_member()
    {
        string? why = ShareableTypes.WhyNotShareable(typeof(Holder));
        Assert.Contains("'Content'", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_round_trip_as_their_declared_type()
    {
        var shape = new Shape("tri", [new Point(0, 0), new Point(1, 0), new Point(0, 1)], Color.Green, DateTime.UnixEpoch);
        byte[] bytes = ShareableSerializer.Serialize(typeof(Shape), shape);
        var back = (Shape)ShareableSerializer.Deserialize(typeof(Shape), bytes)!;
        Assert.Equal(shape.Corners, back.Corners);
        Assert.Equal(shape with { Corners = back.Corners }, back);
    }

    [Fact]
    public void Malformed_bytes_fail_with_a_typed_error()
    {
        var ex = Assert.Throws<NotShareableValueException>(() => ShareableSerializer.Deserialize(typeof(Point), new byte[] { 0xc1, 0xff, 0x00 }));
        Assert.Equal(typeof(Point), ex.ValueType);
    }

    [Fact]
    public void Objects_only_carry_values_that_keep_their_type()
    {
        Assert.NotNull(ShareableSerializer.Serialize(typeof(object), 42));
        Assert.Throws<NotShareableValueException>(() => ShareableSerializer.Serialize(typeof(object), new Point(1, 2)));
    }

    public sealed record Holder(string Name, Stream Content);
}
