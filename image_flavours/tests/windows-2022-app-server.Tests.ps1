# Image tests for windows-2022-app-server, run in the image by the image-tests step.
# A test fails by throwing, which every Pester version (in-box 3.4 or 5.x) understands.

Describe 'windows-2022-app-server' {
    It 'has the pinned tools from the Chocolatey feed' {
        $choco = Join-Path $env:ProgramData 'chocolatey\bin\choco.exe'
        $list = @('list', '--limit-output')
        $installed = & $choco @list
        if ($LASTEXITCODE -ne 0) { throw "choco list failed with $LASTEXITCODE" }
        foreach ($package in @('git|2.47.0', '7zip|24.8.0', 'nssm|2.24.101')) {
            if (-not ($installed -contains $package)) { throw "missing $package (installed: $($installed -join ', '))" }
        }
    }

    It 'has the Contoso Orders service installed, not started' {
        $exe = 'C:\Program Files\Contoso\Orders\Contoso.Orders.Service.exe'
        if (-not (Test-Path -LiteralPath $exe)) { throw "$exe is missing" }
        $running = @(Get-Service -Name 'ContosoOrders*' -ErrorAction SilentlyContinue | Where-Object { $_.Status -ne 'Stopped' })
        if ($running.Count -gt 0) { throw "running: $($running.Name -join ', ')" }
    }

    It 'keeps no installer behind' {
        if (Test-Path -LiteralPath 'C:\golden-images\downloads') { throw 'C:\golden-images\downloads is still there' }
    }
}
