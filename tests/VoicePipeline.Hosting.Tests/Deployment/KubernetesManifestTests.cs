using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using VoicePipeline.Tests.Shared;

namespace VoicePipeline.Hosting.Tests.Deployment;

/// <summary>
/// deploy/kubernetes against the Kubernetes API's JSON schemas (npm's <c>kubernetes-models</c>, run by
/// deploy/kubernetes/validate/validate.mjs), and the contracts between the manifests and <c>vp serve</c>.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Manifests = Path.Combine(RepositoryRoot(), "deploy", "kubernetes");

    [Fact]
    public async Task The_manifests_are_valid_kubernetes_objects()
    {
        var (exitCode, documents) = await ValidateAsync(Path.Combine(Manifests, "deployment.yaml"), Path.Combine(Manifests, "hpa.yaml"));

        documents.Select(d => $"{d["kind"]} {d["name"]}: {d["errors"]}").Should().BeEquivalentTo(
            "Deployment voicepipeline: ", "Service voicepipeline: ", "PodDisruptionBudget voicepipeline: ", "HorizontalPodAutoscaler voicepipeline: ");
        exitCode.Should().Be(0);
    }

    [Fact]
    public async Task A_wrong_manifest_is_reported()
    {
        var wrong = Path.Combine(Path.GetTempPath(), $"vp-wrong-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(wrong, (await File.ReadAllTextAsync(Path.Combine(Manifests, "deployment.yaml")))
            .Replace("containerPort: 8765", "containerPort: \"eighty\"", StringComparison.Ordinal));
        try
        {
            var (exitCode, documents) = await ValidateAsync(wrong);

            exitCode.Should().Be(1);
            var deployment = documents.Single(d => (string?)d["kind"] == "Deployment");
            ((bool)deployment["valid"]!).Should().BeFalse();
            ((string)deployment["errors"]!).Should().Contain("containerPort");
        }
        finally
        {
            File.Delete(wrong);
        }
    }

    [Fact]
    public async Task The_pod_drains_within_its_grace_period_and_the_autoscaler_reads_the_servers_session_metric()
    {
        var (_, documents) = await ValidateAsync(Path.Combine(Manifests, "deployment.yaml"), Path.Combine(Manifests, "hpa.yaml"));
        var pod = documents.Single(d => (string?)d["kind"] == "Deployment")["document"]!["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();

        args.Take(1).Should().Equal("serve");
        var drain = double.Parse(args[args.IndexOf("--grace-period") + 1], System.Globalization.CultureInfo.InvariantCulture);
        var preStop = (int)container["lifecycle"]!["preStop"]!["sleep"]!["seconds"]!;
        ((int)pod["terminationGracePeriodSeconds"]!).Should().BeGreaterThan((int)(preStop + drain), "the pod is killed only after the drain");
        ((string)container["readinessProbe"]!["httpGet"]!["path"]!).Should().Be("/readyz");
        ((string)container["livenessProbe"]!["httpGet"]!["path"]!).Should().Be("/healthz");
        ((long)pod["securityContext"]!["runAsUser"]!).Should().NotBe(0);

        var hpa = documents.Single(d => (string?)d["kind"] == "HorizontalPodAutoscaler")["document"]!["spec"]!;
        ((string)hpa["scaleTargetRef"]!["name"]!).Should().Be("voicepipeline");
        ((string)hpa["metrics"]![0]!["pods"]!["metric"]!["name"]!).Should().Be("voicepipeline_sessions_active");
        (await File.ReadAllTextAsync(Path.Combine(Manifests, "prometheus-adapter-values.yaml"))).Should().Contain("voicepipeline_sessions_active");
    }

    private static readonly SemaphoreSlim s_npm = new(1, 1);

    /// <summary>Runs the validator (after <c>npm ci</c> the first time) and parses its JSON lines.</summary>
    private static async Task<(int ExitCode, List<JsonNode> Documents)> ValidateAsync(params string[] files)
    {
        var validator = Path.Combine(Manifests, "validate");
        await s_npm.WaitAsync();
        try
        {
            if (!File.Exists(Path.Combine(validator, "node_modules", ".package-lock.json")))
                ToolRun.RunChecked("npm", ["ci", "--no-audit", "--no-fund"], validator, TimeSpan.FromMinutes(5));
        }
        finally
        {
            s_npm.Release();
        }
        var (exitCode, output, _) = ToolRun.Run("node", ["validate.mjs", .. files], validator);
        var documents = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line.StartsWith('{')).Select(line => JsonNode.Parse(line)!).ToList();
        documents.Should().NotBeEmpty(output);
        return (exitCode, documents);
    }

    private static string RepositoryRoot([CallerFilePath] string source = "")
    {
        for (var directory = Path.GetDirectoryName(source); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "VoicePipeline.sln")))
                return directory;
        }
        throw new InvalidOperationException($"No VoicePipeline.sln above {source}.");
    }
}
