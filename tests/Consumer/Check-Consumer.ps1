#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The newcomer's first five minutes, tested: packs ProcIsolates into a local feed, then, in a fresh folder outside
    the repository, makes a console app and a test project that add the package from that feed and run code in an
    interpreter — built (dotnet run), published (dotnet publish), and under dotnet test.
#>
param([string] $Configuration = 'Release')
$ErrorActionPreference = 'Stop'
$repo = (Resolve-Path "$PSScriptRoot/../..").Path
$feed = Join-Path $repo 'artifacts/consumer-feed'
# A version of its own each run, so that a package cached by an earlier run is never used instead.
$version = "0.1.0-local.$([DateTime]::UtcNow.ToString('yyyyMMddHHmmss'))"

function Invoke-Checked([string] $What, [scriptblock] $Command) {
    Write-Host "--> $What" -ForegroundColor Cyan
    $output = & $Command 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) { Write-Host $output; throw "$What failed with exit code $LASTEXITCODE" }
    return $output
}

function Assert-Output([string] $Output, [string] $Expected) {
    if (-not $Output.Contains($Expected)) { Write-Host $Output; throw "expected '$Expected' in the output" }
    Write-Host "    ok: $Expected"
}

Remove-Item -Recurse -Force $feed -ErrorAction SilentlyContinue
Invoke-Checked 'pack' { dotnet pack "$repo/ProcIsolates.sln" -c $Configuration -o $feed -p:Version=$version } | Out-Null

$work = Join-Path ([IO.Path]::GetTempPath()) "procisolates-consumer-$([Guid]::NewGuid().ToString('n').Substring(0, 8))"
New-Item -ItemType Directory -Path $work | Out-Null
try {
    Set-Content -Path "$work/nuget.config" -Value @"
<configuration>
  <packageSources>
    <add key="procisolates-local" value="$feed" />
  </packageSources>
</configuration>
"@

    # A console app: built, then published.
    $app = Join-Path $work 'App'
    Invoke-Checked 'dotnet new console' { dotnet new console -o $app -n App --force } | Out-Null
    Copy-Item "$PSScriptRoot/Program.cs" "$app/Program.cs" -Force
    Invoke-Checked 'dotnet add package' { dotnet add "$app/App.csproj" package ProcIsolates --version $version } | Out-Null
    $expected = 'exec in 1; call gave 42'
    Assert-Output (Invoke-Checked 'dotnet run' { dotnet run --project $app -c $Configuration }) $expected
    Invoke-Checked 'dotnet publish' { dotnet publish $app -c $Configuration -o "$work/published" } | Out-Null
    Assert-Output (Invoke-Checked 'published app (dotnet App.dll)' { dotnet "$work/published/App.dll" }) $expected
    $apphost = Join-Path "$work/published" ($(if ($IsWindows) { 'App.exe' } else { 'App' }))
    Assert-Output (Invoke-Checked 'published app (apphost)' { & $apphost }) $expected

    # A single-file, self-contained app hosts its workers itself (ProcIsolatesWorker.TryRun).
    $single = Join-Path $work 'Single'
    Invoke-Checked 'dotnet new console (single-file)' { dotnet new console -o $single -n Single --force } | Out-Null
    Copy-Item "$PSScriptRoot/SingleFileProgram.cs" "$single/Program.cs" -Force
    Invoke-Checked 'dotnet add package (single-file)' { dotnet add "$single/Single.csproj" package ProcIsolates --version $version } | Out-Null
    $rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
    Invoke-Checked 'dotnet publish single-file' { dotnet publish $single -c $Configuration -r $rid --self-contained -p:PublishSingleFile=true -o "$work/single" } | Out-Null
    $singleExe = Join-Path "$work/single" ($(if ($IsWindows) { 'Single.exe' } else { 'Single' }))
    Assert-Output (Invoke-Checked 'single-file app' { & $singleExe }) $expected

    # A test project under dotnet test.
    $tests = Join-Path $work 'AppTests'
    New-Item -ItemType Directory -Path $tests | Out-Null
    Set-Content -Path "$tests/AppTests.csproj" -Value @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <IsTestProject>true</IsTestProject>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
    <PackageReference Include="xunit" Version="2.9.3" />
    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
    <PackageReference Include="ProcIsolates" Version="$version" />
  </ItemGroup>
</Project>
"@
    Copy-Item "$PSScriptRoot/ConsumerTests.cs" "$tests/ConsumerTests.cs"
    Assert-Output (Invoke-Checked 'dotnet test' { dotnet test $tests -c $Configuration }) 'Passed!'
    Write-Host 'consumer check passed' -ForegroundColor Green
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
