namespace Meshinery.TestSupport; internal static class Placeholder { }
