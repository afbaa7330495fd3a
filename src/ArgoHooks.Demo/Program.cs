Console.WriteLine("argohooks-demo");
