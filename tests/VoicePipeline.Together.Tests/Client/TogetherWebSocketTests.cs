using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using VoicePipeline.Together.Client;

namespace VoicePipeline.Together.Tests.Client;

public class TogetherWebSocketTests
{
    [Fact]
    public async Task A_message_sent_in_fragments_is_read_whole()
    {
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var message = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
            for (var offset = 0; offset < message.Length; offset += 7_000)
            {
                var length = Math.Min(7_000, message.Length - offset);
                await server.SendAsync(message.AsMemory(offset, length), WebSocketMessageType.Binary, offset + length == message.Length, CancellationToken.None);
            }
            var buffer = new ArrayBufferWriter<byte>();
            buffer.Write(new byte[10]); // left from an earlier message: emptied first

            var result = await client.ReceiveMessageAsync(buffer, 1_000_000, CancellationToken.None);

            result.EndOfMessage.Should().BeTrue();
            result.MessageType.Should().Be(WebSocketMessageType.Binary);
            buffer.WrittenSpan.ToArray().Should().Equal(message);
        }
    }

    [Fact]
    public async Task Reading_stops_once_a_message_outgrows_the_bound()
    {
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var chunk = new byte[16 * 1024];
            for (var i = 0; i < 64; i++) // 1 MiB in 64 fragments
                await server.SendAsync(chunk, WebSocketMessageType.Text, i == 63, CancellationToken.None);
            var buffer = new ArrayBufferWriter<byte>();

            var result = await client.ReceiveMessageAsync(buffer, 100_000, CancellationToken.None);

            result.EndOfMessage.Should().BeFalse("the message goes on past the bound");
            buffer.WrittenCount.Should().BeGreaterThan(100_000).And.BeLessThan(1024 * 1024, "reading stopped soon after the bound, not at the end");
        }
    }

    /// <summary>A client and a server WebSocket over a real loopback TCP connection.</summary>
    private static async Task<(WebSocket Client, WebSocket Server)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accepting;
        return (WebSocket.CreateFromStream(client.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan),
                WebSocket.CreateFromStream(server.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan));
    }
}
