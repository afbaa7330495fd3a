namespace ArgoHooks.SyncLayout.Tests;

public class ManifestReaderTests
{
    private static IReadOnlyList<ManifestObject> Read(string yaml) => ManifestReader.Read(new StringReader(yaml), "input.yaml");

    [Fact]
    public void Reads_every_document_and_skips_empty_ones_as_helm_template_prints_them()
    {
        const string yaml = """
            ---
            # Source: chart/templates/empty.yaml
            ---
            # Source: chart/templates/a.yaml
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: a
            ---
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: b
            """;
        var objects = Read(yaml);
        Assert.Equal(2, objects.Count);
        Assert.Equal(5, objects[0].Line);
        Assert.Equal(11, objects[1].Line);
        Assert.All(objects, item => Assert.Equal("input.yaml", item.Source));
    }

    [Fact]
    public void Expands_a_kind_List_into_its_items()
    {
        const string yaml = """
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: a
              - apiVersion: batch/v1
                kind: Job
                metadata:
                  name: b
            """;
        var objects = Read(yaml);
        Assert.Equal(["ConfigMap", "Job"], objects.Select(item => Yaml.Text(item.Node, "kind")));
        Assert.Equal(8, objects[1].Line);
    }

    [Fact]
    public void Malformed_yaml_names_the_source_and_line()
    {
        const string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: [unclosed\n";
        var problem = Assert.Throws<ManifestReadException>(() => Read(yaml));
        Assert.Equal("input.yaml", problem.InputName);
        Assert.True(problem.Line >= 5, problem.Message);
        Assert.StartsWith("input.yaml:", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_key_is_unreadable_input()
    {
        const string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n";
        var problem = Assert.ThrowsAny<ManifestReadException>(() => Read(yaml));
        Assert.Equal("input.yaml", problem.InputName);
        Assert.True(problem.Line > 0, problem.Message);
    }

    [Theory]
    [InlineData("just a sentence\n", "not a Kubernetes object")]
    [InlineData("- a\n- b\n", "not a Kubernetes object")]
    [InlineData("apiVersion: v1\nmetadata:\n  name: a\n", "no kind")]
    [InlineData("kind: ConfigMap\nmetadata:\n  name: a\n", "no apiVersion")]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "no metadata.name")]
    [InlineData("apiVersion: v1\nkind: List\nitems:\n  - 3\n", "not a Kubernetes object")]
    public void A_document_that_is_not_an_object_is_unreadable_input(string yaml, string reason)
    {
        var problem = Assert.Throws<ManifestReadException>(() => Read(yaml));
        Assert.Contains(reason, problem.Reason, StringComparison.Ordinal);
        Assert.True(problem.Line > 0);
    }
}
