#pragma warning disable CA1051 // Public fields are what these types are about.
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Tests.Protocol;

/// <summary>Values whose state would not travel are refused, naming the member, rather than arriving changed.</summary>
public sealed class HiddenStateTests
{
    [Theory]
    [InlineData(typeof(AccountWithPrivateField), "balance")]
    [InlineData(typeof(AccountWithPrivateSetter), "Balance")]
    [InlineData(typeof(AccountWithReadOnlyField), "Balance")]
    [InlineData(typeof(HiddenInBase), "secret")]
    public void A_type_whose_state_is_not_public_is_refused_naming_the_member(Type type, string member)
    {
        string? reason = ShareableTypes.WhyNotShareable(type);
        Assert.NotNull(reason);
        Assert.Contains($"'{member}'", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(PlainAccount))]
    [InlineData(typeof(RecordAccount))]
    [InlineData(typeof(AccountWithComputedProperty))]
    [InlineData(typeof(ConstructedAccount))]
    [InlineData(typeof(ClassicProperty))]
    [InlineData(typeof(PrimaryConstructorExposed))]
    [InlineData(typeof(IgnoredCache))]
    [InlineData(typeof(System.Numerics.BigInteger))]
    [InlineData(typeof(Int128))]
    public void Types_whose_state_travels_are_shareable(Type type) => Assert.Null(ShareableTypes.WhyNotShareable(type));

    [Fact]
    public void What_the_check_lets_through_arrives_unchanged()
    {
        Assert.Equal(42, RoundTrip(new PrimaryConstructorExposed(42)).Balance);
        ClassicProperty classic = RoundTrip(new ClassicProperty { Name = "ada", Age = 36 });
        Assert.Equal(("ada", 36), (classic.Name, classic.Age));
        Assert.Equal(7, RoundTrip(new ConstructedAccount(7)).Balance);
        Assert.Equal(100, RoundTrip(new RecordAccount(100)).Balance);
    }

    private static T RoundTrip<T>(T value) => ShareableSerializer.Deserialize<T>(ShareableSerializer.Serialize(value));

    [Fact]
    public async Task A_call_with_such_a_value_fails_before_anything_is_sent()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        var account = new AccountWithPrivateField(100);
        NotShareableException error = await Assert.ThrowsAsync<NotShareableException>(() => interpreter.CallAsync(() => BalanceOf(account)));
        Assert.Contains("'balance'", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, await interpreter.CallAsync(() => BalanceOfRecord(new RecordAccount(100))));
    }

    public static int BalanceOf(AccountWithPrivateField account) => account.Balance;

    public static int BalanceOfRecord(RecordAccount account) => account.Balance;

    public sealed class AccountWithPrivateField
    {
        private int balance;

        public AccountWithPrivateField(int opening) => balance = opening;

        public int Balance => balance;

        public void Deposit(int amount) => balance += amount;
    }

    public sealed class AccountWithPrivateSetter
    {
        public int Balance { get; private set; } = 100;
    }

    public sealed class AccountWithReadOnlyField
    {
        public readonly int Balance = 100;
    }

    public class Base
    {
        private int secret = 7;

        public int Reveal() => secret++;
    }

    public sealed class HiddenInBase : Base
    {
        public int Visible { get; set; }
    }

    public sealed class PlainAccount
    {
        public int Balance { get; set; }

        public string Owner = string.Empty;
    }

    public sealed record RecordAccount(int Balance);

    public sealed class AccountWithComputedProperty
    {
        public int Cents { get; set; }

        public decimal Euros => Cents / 100m;
    }

    public sealed class ClassicProperty
    {
        private string name = string.Empty;
        private int m_age;

        public string Name { get => name; set => name = value; }

        public int Age { get => m_age; set => m_age = value; }
    }

    public sealed class PrimaryConstructorExposed(int balance)
    {
        public int Balance => balance;
    }

    public sealed class IgnoredCache
    {
        [NonSerialized]
        private string? cached;

        public int Value { get; set; }

        public string Text => cached ??= Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public sealed class ConstructedAccount(int balance)
    {
        public int Balance { get; } = balance;
    }
}
