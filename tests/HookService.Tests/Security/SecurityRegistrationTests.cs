using ArgoHooks.HookService.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Security;

public class SecurityRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddCallerAuthorization(configuration).BuildServiceProvider();
    }

    [Fact]
    public async Task Disabled_security_allows_everyone_and_registers_a_start_up_warning()
    {
        await using var provider = Build(new() { ["ArgoHooks:Security:Enabled"] = "false" });

        var authorizer = provider.GetRequiredService<ICallerAuthorizer>();
        var verdict = await authorizer.AuthorizeAsync(null, "any", TestContext.Current.CancellationToken);

        Assert.IsType<AllowAllCallerAuthorizer>(authorizer);
        Assert.Equal(CallerVerdict.Allowed, verdict.Verdict);
        Assert.Single(provider.GetServices<IHostedService>());
    }

    [Fact]
    public async Task Enabled_security_uses_token_and_access_reviews()
    {
        await using var provider = Build(new());
        Assert.Contains(new ServiceCollection().AddLogging().AddCallerAuthorization(new ConfigurationBuilder().Build()),
            d => d.ServiceType == typeof(ICallerAuthorizer) && d.ImplementationType == typeof(KubernetesCallerAuthorizer));
        Assert.Empty(provider.GetServices<IHostedService>());
    }

    [Theory]
    [InlineData("ArgoHooks:Security:Audience", "", "ArgoHooks:Security:Audience")]
    [InlineData("ArgoHooks:Security:AllowedNamespaces:0", "Bad_Namespace", "ArgoHooks:Security:AllowedNamespaces")]
    [InlineData("ArgoHooks:Security:AllowCacheDuration", "02:00:00", "ArgoHooks:Security:AllowCacheDuration")]
    public async Task Bad_options_fail_naming_the_field(string key, string value, string field)
    {
        await using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SecurityOptions>>().Value);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
