namespace Meshinery.Testing; internal static class Placeholder { }
