using System.Net;
using System.Net.Sockets;

namespace ArgoHooks.Deploy.Tests;

/// <summary>Whether a Docker engine answers, asked the way Testcontainers would reach it (DOCKER_HOST or the default socket).</summary>
internal static class DockerAvailability
{
    /// <summary>null when the engine answers GET /_ping with 200; otherwise why not.</summary>
    public static async Task<string?> WhyUnavailableAsync(CancellationToken cancellationToken)
    {
        var dockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (string.IsNullOrWhiteSpace(dockerHost))
        {
            dockerHost = "unix:///var/run/docker.sock";
        }

        if (!Uri.TryCreate(dockerHost, UriKind.Absolute, out var endpoint))
        {
            return $"DOCKER_HOST '{dockerHost}' is not a URI.";
        }

        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) };
        Uri baseAddress;
        switch (endpoint.Scheme)
        {
            case "unix":
                var socketPath = endpoint.AbsolutePath;
                if (!File.Exists(socketPath))
                {
                    return $"there is no Docker socket at {socketPath} (DOCKER_HOST={dockerHost}).";
                }

                handler.ConnectCallback = async (_, token) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
                baseAddress = new Uri("http://docker/");
                break;
            case "tcp":
                baseAddress = new UriBuilder("http", endpoint.Host, endpoint.Port).Uri;
                break;
            default:
                return $"DOCKER_HOST scheme '{endpoint.Scheme}' is not supported by this check (unix or tcp).";
        }

        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync("_ping", cancellationToken);
            return response.StatusCode == HttpStatusCode.OK ? null : $"the Docker engine at {dockerHost} answered /_ping with {(int)response.StatusCode}.";
        }
        catch (HttpRequestException exception)
        {
            return $"the Docker engine at {dockerHost} does not answer ({exception.Message}).";
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"the Docker engine at {dockerHost} did not answer /_ping within 5 s.";
        }
    }
}
